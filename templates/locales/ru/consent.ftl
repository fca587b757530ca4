# Стоп-лист (страницы владельца) и страница отписки для получателя.

## Почему адрес в списке (метки в таблице, страница отписки)
consent-reason-unsubscribed = отписка
consent-reason-bounced = недоставка
consent-reason-complained = жалоба
consent-reason-listed = добавлен вручную

## Список
consent-list-title = Стоп-лист
consent-list-lead = Адреса, на которые не отправит ни одна ваша рассылка, у какого бы клиента они ни были, — даже если удалить клиента и импортировать его снова.
consent-search-placeholder = Поиск по адресу или заметке
consent-search-label = Поиск по списку
consent-import-csv = Импорт CSV
consent-export-csv = Экспорт CSV
consent-filter-label = Фильтр по причине
consent-filter-all = Все
consent-filter-unsubscribed = Отписались
consent-filter-bounced = Недоставка
consent-filter-complained = Жалобы
consent-filter-listed = Добавлены вами
consent-add-title = Добавить адрес
consent-add-email = Адрес электронной почты
consent-add-note = Заметка (необязательно)
consent-add-note-help = Почему адрес здесь — чтобы вы могли вспомнить позже.
consent-add-submit = Добавить в список
consent-col-email = Электронная почта
consent-col-reason = Причина
consent-col-note = Заметка или ответ
consent-col-since = В списке с
consent-col-actions = Действия
consent-remove = Убрать
consent-recipients-choice = решение получателя
consent-recipients-choice-hint = Отменить это может только получатель — по ссылке в любом из ваших писем.
consent-no-match = В вашем списке ничего не найдено.
consent-show-all = Показать все
consent-empty-title = Ваш стоп-лист пуст.
consent-empty-lead = Получатели, которые отписались, адреса, на которые письма не доставляются, и получатели, отметившие ваше письмо как спам, попадают сюда сами. Вы можете добавлять адреса и вручную.
consent-back-to-list = Назад к списку
consent-cancel = Отмена

## Удаление адреса из списка
consent-remove-title = Убрать из стоп-листа
consent-remove-question = Снова отправлять письма на { $email }?
consent-remove-on-list = в вашем стоп-листе с пометкой «{ $reason }» с
consent-remove-effect = Если убрать его из списка, ваши рассылки снова будут приходить на него, начиная со следующей отправки.
consent-remove-bounced-warning = Делайте это, только если знаете, что почтовый ящик снова существует: рассылка на адреса, с которых письма возвращаются, ухудшает доставку всей вашей почты.
consent-remove-submit = Да, снова отправлять
consent-locked-title = Отменить это может только получатель
consent-locked-complained-on = — получатель отметил ваше письмо как спам
consent-locked-unsubscribed-on = — получатель отписался
consent-locked-lead = Вернуть подписку может только сам получатель — по ссылке отписки в любом из ваших писем. Никто другой не может подписать его снова.

## Импорт
consent-import-title = Импорт стоп-листа
consent-import-heading = Импорт адресов в стоп-лист
consent-import-lead-columns = По одному адресу в строке: первый столбец или столбец с заголовком
consent-import-lead-note-before = столбец
consent-import-lead-note-after = сохраняется как заметка. Разделитель —
consent-import-lead-or = или
consent-import-lead-encoding = , кодировка UTF-8. Выгрузка этого списка загружается обратно как есть.
consent-import-added = { $count ->
    [one] Добавлен { $count } адрес
    [few] Добавлено { $count } адреса
   *[many] Добавлено { $count } адресов
}
consent-import-already = { $count ->
    [one] { $count } уже был в вашем списке
    [few] { $count } уже были в вашем списке
   *[many] { $count } уже были в вашем списке
}
consent-import-skipped = { $count ->
    [one] { $count } строка пропущена
    [few] { $count } строки пропущены
   *[many] { $count } строк пропущено
}
consent-import-col-line = Строка
consent-import-col-why = Почему пропущена
consent-import-file = Файл CSV
consent-import-file-help = До 10 МБ.
consent-import-submit = Импортировать

## Страница отписки для получателя
consent-unsub-title = Отписка
consent-unsub-ask-title = Отписаться?
consent-unsub-ask-lead = Больше не получать письма этого отправителя на адрес
consent-unsub-submit = Отписаться
consent-unsub-done-title = Вы отписались
consent-unsub-done-because = больше не получает писем от этого отправителя ({ $reason }).
consent-unsub-done = больше не будет получать писем от этого отправителя.
consent-unsub-undo = Отменить: продолжать получать письма
consent-unsub-back-title = С возвращением
consent-unsub-back-still = по-прежнему не получает писем от этого отправителя ({ $reason }).
consent-unsub-back = снова получает письма этого отправителя.
consent-unsub-again = Всё-таки отписаться
consent-unsub-gone-title = Отписываться не от чего
consent-unsub-gone = Отправитель удалил этот адрес из своего списка: писем от него больше не будет.
consent-unsub-preview-title = Это проверка
consent-unsub-preview = В предпросмотре и тестовом письме эта ссылка ничего не меняет. В письме каждого получателя — своя ссылка, которая отписывает именно его.
consent-unsub-busy-title = Попробуйте ещё раз через минуту
consent-unsub-busy = Сервис занят. Ничего не изменилось.
consent-unsub-invalid-title = Эта ссылка недействительна
consent-unsub-invalid = Проверьте, что скопировали её из письма целиком.
