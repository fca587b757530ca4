# Страницы рассылок: список, форма, рассылка с ходом отправки и отчётом.
mailings-title = Рассылки
mailings-number = Рассылка #{ $id }
# Состояние рассылки на её значке.
mailing-status-created = создана
mailing-status-running = идёт
mailing-status-finished = завершена
mailing-status-disabled = отключена
# Как часто рассылка отправляется.
mailing-repeat-once = Однократно
mailing-repeat-daily = Ежедневно
mailing-repeat-weekly = Еженедельно
mailing-repeat-monthly = Ежемесячно
# Вкладки списка.
mailings-filter-label = Отбор по состоянию
mailings-filter-all = Все
mailings-filter-created = Созданы
mailings-filter-running = Идут
mailings-filter-finished = Завершены
mailings-filter-disabled = Отключены
mailings-new = Новая рассылка
mailings-col-message = Сообщение
mailings-col-clients = Клиенты
mailings-col-start = Начало
mailings-col-end = Конец
mailings-col-repeats = Повтор
mailings-col-status = Состояние
mailings-none-created = Нет созданных рассылок.
mailings-none-running = Нет идущих рассылок.
mailings-none-finished = Нет завершённых рассылок.
mailings-none-disabled = Нет отключённых рассылок.
mailings-none-match = Нет подходящих рассылок.
mailings-show-all = Показать все
mailings-empty = Рассылок пока нет.
mailings-empty-hint = Рассылка отправляет одно из ваших сообщений выбранным клиентам — один раз или каждый день, неделю или месяц.
mailings-create = Создать рассылку
mailings-edit = Изменить
mailings-delete = Удалить
mailings-cancel = Отмена
mailings-save = Сохранить

# Страница рассылки.
mailings-fact-message = Сообщение
mailings-fact-start = Начало
mailings-fact-end = Конец
mailings-fact-repeats = Повтор
mailings-fact-next-send = Следующая отправка
mailings-fact-clients = Клиенты ({ $count })
mailings-fact-tags = Метки
mailings-fact-recipients = Получателей сейчас
mailings-fact-recipients-note = выбранные клиенты и клиенты с её метками, каждый по одному разу; пересчитывается при каждой отправке.
mailings-send-now = Отправить сейчас
mailings-disable = Отключить
mailings-enable = Включить
mailings-progress-title = Ход доставки
mailings-progress-label = Завершённые доставки
# После чисел, за тире.
mailings-progress-starting = начинаем…
mailings-progress-nothing-yet = пока ничего не отправлено.
mailings-progress-sending = идёт отправка…
mailings-progress-stopped-disabled = остановлено: письма уйдут, когда рассылку снова включат.
mailings-progress-stopped-next-tick = остановлено: письма уйдут при следующем запуске планировщика.
mailings-progress-done = готово.
# Каждое после числа.
mailings-progress-sent = отправлено
mailings-progress-failed = с ошибкой
mailings-progress-pending = { $count ->
    [one] ожидает
   *[other] ожидают
}
mailings-progress-cancelled = остановлено
mailings-progress-skipped = пропущено (отписались)
mailings-report-title = Отчёт
mailings-report-empty = Попыток пока нет. Они появятся здесь, когда рассылка начнёт отправку.
mailings-report-download = Скачать все попытки в CSV
# Под числом.
mailings-report-attempts = { $count ->
    [one] попытка
    [few] попытки
   *[many] попыток
}
mailings-report-successes = { $count ->
    [one] успешная
    [few] успешные
   *[many] успешных
}
mailings-report-failures = { $count ->
    [one] неудачная
    [few] неудачные
   *[many] неудачных
}
# Перед датой и временем.
mailings-report-last-attempt = Последняя попытка
mailings-report-chart = Попытки по дням вашего часового пояса (успешные / неудачные); неудачные заштрихованы.
mailings-report-col-recipient = Получатель
mailings-report-col-successes = Успешных
mailings-report-col-failures = Неудачных
mailings-report-col-last-attempt = Последняя попытка
mailings-report-col-last-reply = Последний ответ
# Чем закончилась последняя попытка.
mailings-attempt-success = успех
mailings-attempt-failure = ошибка

# Форма.
mailings-new-title = Новая рассылка
mailings-edit-title = Изменение «{ $name }»
mailings-form-lead = Рассылка уходит сразу, если сейчас время между её началом и концом; иначе она начнётся сама в момент начала.
# Дальше текущее время и «).»
mailings-form-need-both = Чтобы создать рассылку, нужны сообщение и хотя бы один клиент.
mailings-form-need-message = Чтобы создать рассылку, нужно сообщение.
mailings-form-need-client = Чтобы создать рассылку, нужен хотя бы один клиент.
mailings-form-write-message = Написать сообщение
mailings-form-add-client = Добавить клиента
mailings-field-message = Сообщение
mailings-field-message-choose = выберите
mailings-field-repeats = Повтор
mailings-field-tags = Метки — все клиенты, у которых есть хотя бы одна из них на момент каждой отправки
mailings-field-tags-none = Меток пока нет: назначьте их клиентам на странице клиента или при импорте из CSV, а затем выберите здесь.
# «Клиенты, выбранные вручную — 3 из 10»
mailings-field-clients = Клиенты, выбранные вручную
mailings-field-clients-of = из { $count }
mailings-field-clients-filter = Отбор по имени или адресу
mailings-field-clients-filter-label = Отбор клиентов
mailings-field-clients-all = Выбрать всех показанных
mailings-field-clients-none = Снять выбор

# Удаление, повторная отправка.
mailings-delete-title = Удаление «{ $name }»
mailings-delete-question = Удалить «{ $name }»?
mailings-delete-explanation = Рассылка перестанет отправляться, и журнал её доставки будет удалён вместе с ней.
mailings-delete-confirm = Да, удалить
mailings-send-again-question = Отправить «{ $name }» ещё раз?
# После числа получателей.
mailings-send-again-count = { $count ->
    [one] адресат уже получил её и получит повторно.
    [few] адресата уже получили её и получат повторно.
   *[many] адресатов уже получили её и получат повторно.
}
mailings-send-again-confirm = Да, отправить ещё раз
mailings-form-zone = Время указано в вашем часовом поясе, { $zone } (сейчас: { $now });
mailings-form-zone-change = изменить
mailings-field-start = Начало ({ $zone })
mailings-field-end = Конец ({ $zone })
mailings-field-start-help = Повторяющаяся рассылка уходит каждый раз в это местное время, летом и зимой. Время, которое часы пропускают, отправляется, когда они продолжают идти (02:30 → 03:00); время, которое бывает дважды, — в первый раз.
mailings-times-utc = Время указано в вашем часовом поясе, { $zone }.
mailings-search-placeholder = Поиск по названию
mailings-search-label = Поиск рассылок
mailings-col-name = Название
mailings-more-clients = и ещё { $count }
mailings-clients-unnamed = … и ещё { $count }, здесь не перечислены
mailings-field-name = Название
mailings-field-name-help = Так рассылка называется в ваших списках и отчётах; клиенты его не видят.
mailings-none-search = Ни одна рассылка не подходит под «{ $query }».

## Problems written in Rust, with values
mailings-no-such-tags = У вас нет { $count ->
        [one] метки
       *[other] меток
    } с именем { $names }.
mailings-could-not-check-message = Не удалось проверить сообщение: { $detail }
mailings-could-not-check-tags = Не удалось проверить метки: { $detail }
